"""Human evaluation: blinded preference studies, criterion annotation, and their statistics."""
