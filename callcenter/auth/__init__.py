"""Who is calling the API: password hashes and signed bearer tokens."""
