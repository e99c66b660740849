// face-api.js as its users run it in a page: the photo file decoded by the browser
// (createImageBitmap, drawn on a canvas: face-api takes canvases, not bitmaps), the best face
// found, its 68 landmarks, the dlib-aligned crop and its 128-value descriptor. The stages are
// face-api's own calls, the ones its detectSingleFace().withFaceLandmarks().withFaceDescriptor()
// chain makes, called one by one so that each is timed. The times land where the page puts its
// own (#timing's data-*), so that bench/page.mjs reads both the same way.
import * as faceapi from "./face-api.esm.js";

const detector = new URLSearchParams(location.search).get("detector") ?? "tiny";
const status = document.querySelector("#status");
const timing = document.querySelector("#timing");
const matches = document.querySelector("#matches");

const ready = (async () => {
  faceapi.tf.setWasmPaths("./tfjs/");
  await faceapi.tf.setBackend("wasm");
  await faceapi.tf.ready();
  status.dataset.backendReady = performance.now().toFixed(1);
  const detectorNet = detector === "ssd" ? faceapi.nets.ssdMobilenetv1 : faceapi.nets.tinyFaceDetector;
  await Promise.all([
    detectorNet.loadFromUri("./model"),
    faceapi.nets.faceLandmark68Net.loadFromUri("./model"),
    faceapi.nets.faceRecognitionNet.loadFromUri("./model"),
  ]);
  status.dataset.modelsLoaded = performance.now().toFixed(1);
  status.textContent = `ready: ${faceapi.tf.getBackend()}, ${detector}`;
})();

const options = () =>
  detector === "ssd" ? new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 }) : new faceapi.TinyFaceDetectorOptions({ inputSize: 416 });

let seq = 0;
async function analyse(file) {
  await ready;
  const start = performance.now();
  const bitmap = await createImageBitmap(file);
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  // Read back by tfjs (getImageData): a canvas kept in memory, the fastest for the peer.
  canvas.getContext("2d", { willReadFrequently: true }).drawImage(bitmap, 0, 0);
  bitmap.close();
  const decoded = performance.now();
  const detection = await faceapi.detectSingleFace(canvas, options());
  const detected = performance.now();
  let descriptor = null;
  let landmarked = detected;
  if (detection) {
    const [face] = await faceapi.extractFaces(canvas, [detection]);
    const landmarks = (await faceapi.nets.faceLandmark68Net.detectLandmarks(face)).shiftBy(detection.box.x, detection.box.y);
    landmarked = performance.now();
    const [aligned] = await faceapi.extractFaces(canvas, [landmarks.align(null, { useDlibAlignment: true })]);
    descriptor = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(aligned);
  }
  const end = performance.now();
  Object.assign(timing.dataset, {
    decode: (decoded - start).toFixed(1),
    detect: (detected - decoded).toFixed(1),
    landmarks: (landmarked - detected).toFixed(1),
    embed: (end - landmarked).toFixed(1),
    total: (end - start).toFixed(1),
    seq: String(++seq),
  });
  const card = document.createElement("div");
  card.className = "card";
  card.textContent = descriptor ? `a face at ${detection.box.x.toFixed(0)}, ${detection.box.y.toFixed(0)}: ${descriptor.length} values` : "no face";
  matches.replaceChildren(card);
}

document.querySelector("#photo-input").addEventListener("change", (event) => {
  const [file] = event.target.files;
  // Emptied, so that choosing the same file again is a change too.
  event.target.value = "";
  if (file) analyse(file).catch((error) => (status.textContent = `failed: ${error}`));
});
