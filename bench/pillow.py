# Upstream gischat's image job, timed in-process with Pillow, for the benches
# (bench/pillow.ts starts this with Debian's python3 and python3-pil):
# gischat/app.py does, for an image message,
#   raw = base64.b64decode(message.image_data, validate=True)
#   image = Image.open(BytesIO(raw))
#   image.thumbnail((size, size), Image.Resampling.LANCZOS)
#   image.save(img_byte_arr, format="PNG")
#   message.image_data = base64.b64encode(img_byte_arr.getvalue()).decode("utf-8")
# Protocol: each line on stdin is a file path; the answer is one JSON line:
# {"ms": wall time of the job, "cpu": its CPU time, "bytes": the PNG's size, "size": [w, h]}.
import base64
import json
import sys
import time
from io import BytesIO

from PIL import Image

SIZE = 800
cache = {}


def job(image_data):
    raw = base64.b64decode(image_data, validate=True)
    image = Image.open(BytesIO(raw))
    image.thumbnail((SIZE, SIZE), Image.Resampling.LANCZOS)
    out = BytesIO()
    image.save(out, format="PNG")
    base64.b64encode(out.getvalue()).decode("utf-8")
    return out.getbuffer().nbytes, image.size


print(json.dumps({"ready": True, "pillow": Image.__version__}), flush=True)
for line in sys.stdin:
    path = line.strip()
    if path not in cache:
        with open(path, "rb") as f:
            cache[path] = base64.b64encode(f.read()).decode("ascii")
    wall, cpu = time.perf_counter(), time.process_time()
    size, dimensions = job(cache[path])
    answer = {"ms": (time.perf_counter() - wall) * 1000, "cpu": (time.process_time() - cpu) * 1000, "bytes": size, "size": dimensions}
    print(json.dumps(answer), flush=True)
