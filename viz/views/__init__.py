"""The pictures: each view is a function ``(graph, **options) -> graphviz.Digraph``."""
