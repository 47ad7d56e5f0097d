"""Video backbones (C3D, R3D, R(2+1)D, S3D-G) and heads for pace prediction."""
