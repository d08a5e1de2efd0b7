"""UI pieces shared by several pages. Pages and these helpers call core/, never the reverse."""
