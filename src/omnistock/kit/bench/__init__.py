"""Benchmarks run by `omnistock bench`: each scenario measures omnistock next to a baseline
taken in the same run on the same machine."""
