"""Benchmark stand-in for the backend package: only what Python RQ workers import (bench/run)."""
