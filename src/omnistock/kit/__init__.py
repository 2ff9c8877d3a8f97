"""The test kit: platform sandboxes, the merchant that sets up shop in them, the rigs, the
demo and the benchmarks. It sits above the engine and imports it; the product never imports it."""
