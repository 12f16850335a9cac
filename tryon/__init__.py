"""tryon — Python client for the tryon virtual makeup try-on API.

    from tryon import Client
    with Client("127.0.0.1:50051", api_key="...") as client:
        geometry = client.reconstruct("selfie.jpg")
        print(len(geometry.faces), geometry.faces[0].skin_tone.hex)

The API messages live in `tryon.v1` (generated from protos/ by `make proto`); the face mesh
topology (which landmark is what) in `tryon.face_mesh`.
"""

from tryon._client import Client, geometry_to_dict

__all__ = ["Client", "geometry_to_dict"]
