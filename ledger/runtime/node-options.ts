// Node.js options every role runs with in the container image (Dockerfile `ENV NODE_OPTIONS`), kept
// here so benchmarks run the worker exactly as deployed. A test checks the Dockerfile agrees.
//
// The old-generation cap keeps a role's memory flat under sustained load: without it V8 grows the heap
// lazily towards a quarter of the machine's memory before collecting.
export const IMAGE_NODE_OPTIONS = '--max-semi-space-size=2 --max-old-space-size=128';
