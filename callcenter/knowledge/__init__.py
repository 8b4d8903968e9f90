"""The knowledge base: articles, search and suggestions for the agent on a call."""
