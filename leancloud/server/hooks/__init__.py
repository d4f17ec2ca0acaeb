"""LeanEngine on the server side: calling the app's Engine for cloud functions and hooks.

``client`` reaches the Engine (HTTP or in-process WSGI) and knows what it defines;
``classes`` runs class hooks around object writes; ``users`` runs the account hooks
(``onLogin``, ``onVerified``, ``onAuthData``) through the users service's seam.
"""
