"""Deep-research task families: questions answered by browsing an offline corpus with tools
(search, open, find), so episodes look like agentic retrieval and every step can be checked
against the evidence the question was built from."""
