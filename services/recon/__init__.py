"""Recon service: face detection, dense 3D face mesh (478 landmarks), pose and skin tone."""
