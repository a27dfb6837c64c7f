"""Exercise pictures drawn from the content's poses: `kinematics` (angles to points), `render`
(still, GIF, the avoid pair), `describe` (alt text), `store` (cached, drawn off the loop)."""
