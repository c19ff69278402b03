"""The executor: sends each instance's orders to its broker, exactly once, and reports."""
