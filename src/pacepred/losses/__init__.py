"""Loss functions: small pure functions, computed in float32."""
