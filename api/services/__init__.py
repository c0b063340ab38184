"""What the routers and the console pages do, by resource: the only code of the API that
reaches the store, Temporal and the departments."""
