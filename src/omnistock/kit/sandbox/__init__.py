"""Local emulators of the sales channels' inventory APIs, for tests, demos and benchmarks.

`common` is the kit every emulator shares; each platform package is one ASGI app.
"""
