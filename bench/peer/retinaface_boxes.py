"""RetinaFace's own boxes on the annotated group photos, for `cfaces eval-detect --peer-boxes`.

The peer is the frozen graph of PyPI `retinaface==1.1.1` (retinaface/src/frozen_graph.pb, the
file scripts/models.pins fetches as models/retinaface_mnv2.pb), run whole by TensorFlow: its
own decoding and non-maximum suppression included, as its package runs it, so that our port
(cut before them, decoded in crates/face/src/retinaface.rs) can be checked against it.

    python3 -m venv /tmp/tf && /tmp/tf/bin/pip install tensorflow-cpu pillow numpy
    /tmp/tf/bin/python bench/peer/retinaface_boxes.py ../shared/data/faces-detection \
        models/retinaface_mnv2.pb 640 /tmp/retinaface-640.tsv   # 0: the photos' own size
    cfaces eval-detect --detectors yunet --peer-boxes retinaface-tf-640=/tmp/retinaface-640.tsv

Each photo is shrunk to fit `max_side` (never enlarged) and padded to a multiple of 32 at the
bottom and right, as the package does; boxes are written in the file's pixels with their
scores. TensorFlow runs on one thread, so that its time per photo compares with ours.
"""

import sys
import time

import numpy as np
import tensorflow as tf
from PIL import Image


def main(dataset, graph_file, max_side, out):
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    graph = tf.compat.v1.GraphDef()
    with open(graph_file, "rb") as f:
        graph.ParseFromString(f.read())
    wrapped = tf.compat.v1.wrap_function(lambda: tf.compat.v1.import_graph_def(graph, name=""), [])
    model = wrapped.prune(wrapped.graph.as_graph_element("x:0"), wrapped.graph.as_graph_element("Identity:0"))
    with open(f"{dataset}/boxes.tsv") as f:
        paths = [line.split("\t")[0] for line in f if line.strip()]
    seconds = 0.0
    with open(out, "w") as f:
        for path in paths:
            image = Image.open(f"{dataset}/{path}").convert("RGB")
            width, height = image.size
            scale = min(1.0, max_side / max(width, height)) if max_side > 0 else 1.0
            if scale < 1.0:
                image = image.resize((round(width * scale), round(height * scale)), Image.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32)
            h, w = pixels.shape[:2]
            pad_h, pad_w = (32 - h % 32) % 32, (32 - w % 32) % 32
            pixels = np.pad(pixels, ((0, pad_h), (0, pad_w), (0, 0)))
            started = time.perf_counter()
            found = model(tf.constant(pixels[None])).numpy().reshape(-1, 16)
            seconds += time.perf_counter() - started
            # Columns: box and five points normalised to the padded input, then a validity
            # flag and the face score.
            sx, sy = (w + pad_w) / scale, (h + pad_h) / scale
            boxes = [f"{r[0] * sx:.1f},{r[1] * sy:.1f},{r[2] * sx:.1f},{r[3] * sy:.1f},{r[15]:.4f}" for r in found]
            f.write(f"{path}\t{';'.join(boxes)}\n")
    print(f"max side {max_side}: {1000 * seconds / len(paths):.1f} ms per photo (TensorFlow, one thread)", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit("usage: retinaface_boxes.py DATASET GRAPH MAX_SIDE OUT.tsv")
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
