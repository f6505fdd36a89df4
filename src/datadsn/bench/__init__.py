"""Benchmarks: commands that print figures (speed and memory), never timed tests.

One module per measured stage (``ingest``, ``consolidate``, ``indicators``); they alone bring the
simulator and the stages together, so that no stage imports the simulator.
"""
