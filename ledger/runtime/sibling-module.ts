// A thread's entry module beside the module that starts it, with the same extension: .ts when run from
// source, .js from the compiled build.
export function siblingModule(name: string, moduleUrl: string): URL {
  return new URL(`./${name}${moduleUrl.slice(moduleUrl.lastIndexOf('.'))}`, moduleUrl);
}
