"""The gateway's pure rules: who a caller is, who receives an event, who browses, limits."""
