"""tryon back-end services: gateway, recon, render, recsys (one package each) and common."""
