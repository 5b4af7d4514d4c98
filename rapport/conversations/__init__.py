"""Conversations: the customer's one thread with the firm, whatever the channel (the inbox of issue 10)."""
