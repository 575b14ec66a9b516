"""The worker: delivers webhooks and due reminders. In each app process on the embedded default,
or as separate `taskwell worker` processes at scale."""
