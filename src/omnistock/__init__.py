"""omnistock: keeps the stock shown on every sales channel equal to what the merchant has."""
