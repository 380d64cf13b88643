"""Modbus register decoding and the Modbus/TCP client used by the poller."""
