"""`omnistock demo`: the engine, in one process, against several platform sandboxes that
sell one catalog, with shoppers, restocks, live progress and a measured summary."""
