"""Webhooks: users' HTTPS endpoints that receive signed deliveries of the changes they can see,
made from the change feed and sent by the worker (`taskwell worker`)."""
