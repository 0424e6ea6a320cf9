"""Moving conversations in (imports) and out (exports), and their download."""
