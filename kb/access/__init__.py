"""Personal access tokens: the API's bearer tokens and the secret in a person's feed addresses."""
