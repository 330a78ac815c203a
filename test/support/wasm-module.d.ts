// A `.wasm` import in a Worker bundle: workerd hands the module over compiled (miniflare's CompiledWasm).
declare module '*.wasm' {
  const module: WebAssembly.Module;
  export default module;
}
