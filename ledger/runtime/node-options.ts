// Node.js options and allocator settings the roles run with in the container image (Dockerfile `ENV`;
// per-role node flags in the pods the operator writes), kept here so benchmarks run the worker exactly
// as deployed. Tests check the Dockerfile and the pod specs agree.
//
// - The old-generation cap keeps a role's memory flat under sustained load: without it V8 grows the
//   heap lazily towards a quarter of the machine's memory before collecting.
// - 8 MB semi-spaces: a batch lives across a few scavenges, and with 2 MB most of it was copied and
//   promoted, then marked again; bench:ingest worker CPU -10%, peak RSS +5 MB (2 -> 8 MB).
// - Single-threaded GC for the worker and export: each keeps its threads and Postgres busy on a pod
//   with one or two cores, where V8's parallel and concurrent GC helpers only add coordination to work
//   the mutator threads could do themselves. bench:ingest (2 cores): worker CPU per event 63 -> 50 µs.
//   Export encodes on two threads of its own (each with its own heap), so its helpers competed with
//   them too. Not for verify, which leaves a core idle while Postgres streams rows (verify 147k ->
//   129k events/s with it). NODE_OPTIONS refuses this V8 flag, so those containers run node with it
//   as their command.
// - A 64 MB initial old space for export: its main thread keeps ~16 MB live while hundreds of MB of
//   COPY buffers pass through it, and V8 kept the old generation's limit so close to that (within one
//   young generation) that it started a full mark every ~90 ms: 40 collections, ~0.9 s of a 4 s run.
//   With the floor: 31 collections, 0.27 s, and the encoding threads half their full marks. Export
//   CPU per event 49-51 -> 43-44 µs, peak RSS +20-30 MB (A/B, bench:retention's 150k-event export).
// - Two malloc arenas: glibc otherwise gives every thread (main, classification thread, libuv and
//   V8 platform threads) its own arena, each holding freed buffers; ~10-20 MB of RSS less.
export const IMAGE_NODE_OPTIONS = '--max-semi-space-size=8 --max-old-space-size=128';
/** The CLI's path in the image. */
export const IMAGE_CLI = '/app/dist/cli/ledgerhub.js';
/** Node flags by role, for roles that need any (passed on node's command line, before the CLI). */
export const ROLE_NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  worker: ['--single-threaded-gc'],
  export: ['--single-threaded-gc', '--initial-old-space-size=64'],
};
export const IMAGE_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };
