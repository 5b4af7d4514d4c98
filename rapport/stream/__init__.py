"""The durable event stream (NATS JetStream) between the tracking API and the ingestion workers.

``rapport serve --stream nats://…`` publishes every accepted tracking call and answers once JetStream has stored
it; ``rapport ingest-worker --stream nats://…`` stores the calls through the ingestion service and acknowledges
them only after the batch commits. Delivery is at least once; ingestion is idempotent on messageId.
"""
