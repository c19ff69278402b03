"""The notifier: results and instance events sent to people through Apprise URLs."""
