"""A student's teachers (`teacher:`): the teacher runs planned before the student that reads them."""
