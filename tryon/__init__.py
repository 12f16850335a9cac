"""tryon — Python client for the tryon virtual makeup try-on API.

    from tryon import Client
    with Client("127.0.0.1:50051", api_key="...") as client:
        geometry = client.reconstruct("selfie.jpg")
        print(len(geometry.faces), geometry.faces[0].skin_tone.hex)

Live video: `client.stream_try_on(frames, look)` (StreamTryOn), with `read_video` and
`VideoWriter` (`tryon.video`) to read a clip and write the result as a browser-playable MP4.

The API messages live in `tryon.v1` (generated from protos/ by `make proto`); the face mesh
topology (which landmark is what) in the shared `face_topology` package (its `mesh` module
is also `tryon.face_mesh`).
"""

from face_topology import mesh as face_mesh
from tryon._client import Client, geometry_to_dict
from tryon.video import VideoWriter, read_video

__all__ = ["Client", "VideoWriter", "face_mesh", "geometry_to_dict", "read_video"]
