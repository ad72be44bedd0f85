"""Reading runs: gates, comparison with a baseline, statistics, repeats, flakiness."""
