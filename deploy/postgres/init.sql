-- One database per service (run once by the postgres image on an empty volume).
CREATE DATABASE glm_auth OWNER glm;
CREATE DATABASE glm_billing OWNER glm;
CREATE DATABASE glm_knowledge OWNER glm;
