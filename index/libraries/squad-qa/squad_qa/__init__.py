"""SQuAD v1.1 for BERT question answering: ``features`` (examples to model inputs),
``answers`` (start/end logits to answer text) and ``metric`` (the official F1 and exact
match). Runs in the environments cmpkg builds; must not import cmpkg."""

__version__ = "0.1.0"
