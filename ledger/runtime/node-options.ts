// Node.js options and allocator settings every role runs with in the container image (Dockerfile `ENV`
// and `ENTRYPOINT`), kept here so benchmarks run the worker exactly as deployed. A test checks the
// Dockerfile agrees.
//
// - The old-generation cap keeps a role's memory flat under sustained load: without it V8 grows the
//   heap lazily towards a quarter of the machine's memory before collecting.
// - 8 MB semi-spaces: a batch lives across a few scavenges, and with 2 MB most of it was copied and
//   promoted, then marked again; bench:ingest worker CPU -10%, peak RSS +5 MB (2 -> 8 MB).
// - Single-threaded GC: a role is CPU-bound on a pod with one or two cores, where V8's parallel and
//   concurrent GC helpers only add coordination to work the mutator threads could do themselves.
//   Measured on bench:ingest (2 cores): worker CPU per event 63 -> 50 µs, same pauses in total.
//   NODE_OPTIONS refuses this V8 flag, so the image's entrypoint passes it to node.
// - Two malloc arenas: glibc otherwise gives every thread (main, classification thread, libuv and
//   V8 platform threads) its own arena, each holding freed buffers; ~10-20 MB of RSS less.
export const IMAGE_NODE_OPTIONS = '--max-semi-space-size=8 --max-old-space-size=128';
export const IMAGE_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
export const IMAGE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
