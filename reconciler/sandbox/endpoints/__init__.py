"""The REST endpoints: one module per family, each a (Context) -> Reply run under the world
lock, their JSON shapes, and the route table. Imports `world` and `rules`."""
