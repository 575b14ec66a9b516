"""Real-user monitoring: web vitals and uncaught errors reported by the browser app."""
