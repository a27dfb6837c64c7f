"""Exercise pictures drawn from the content's poses: `kinematics` (angles to points), `render`
(still, GIF, the avoid pair), `describe` (alt text), `store` (cached on disk, drawn off the loop)."""
