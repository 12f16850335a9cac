"""Recsys service: LightFM recommendations and foundation shade matching."""
