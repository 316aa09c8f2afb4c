/** API authentication and role-based authorisation for every service's operator routes. */
export {};
