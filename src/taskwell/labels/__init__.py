"""Labels: each user's own tags on the tasks they can see."""
