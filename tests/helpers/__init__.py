"""Helpers the test folders share: CLI runners, stand-ins, emulator wire helpers, browsers."""
