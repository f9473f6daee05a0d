"""`tune: {from: ...}`: a cell trained at another cell's tuned point."""
