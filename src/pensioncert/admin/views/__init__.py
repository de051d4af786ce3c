"""HTTP views of the back office, one module per noun; ``pensioncert.admin.routes`` assembles them."""
