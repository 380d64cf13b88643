"""Simulated concentrators and meters, served over Modbus/TCP for the demo and tests."""
