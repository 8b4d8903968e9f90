"""Console accounts: who may sign in, in which role, and whether their tokens still count."""
