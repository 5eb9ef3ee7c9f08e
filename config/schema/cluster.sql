-- sipdlg's own tables for several boxes on one MariaDB Galera cluster
-- (the cluster: section).  Load after mysql.sql, into the same database.
-- Kamailio's dialog and dialog_vars tables are not changed: the node that
-- owns a dialog row follows from its hash_id (hash_id % nodes + 1) and
-- from sipdlg_nodes.taken_over_by.  Every table has a primary key
-- (Galera replicates InnoDB tables with primary keys).

-- One row per node: its advertised address, its last heartbeat (the
-- database's clock), the node serving its dialogs now (0 = itself), and
-- 'up', 'fenced' (running, its old dialogs held by another node),
-- 'taken_over' or 'stopped'.
CREATE TABLE `sipdlg_nodes` (
    `node_id` INT(10) UNSIGNED PRIMARY KEY NOT NULL,
    `address` VARCHAR(128) NOT NULL DEFAULT '',
    `heartbeat` DATETIME(6) NOT NULL,
    `taken_over_by` INT(10) UNSIGNED NOT NULL DEFAULT 0,
    `state` VARCHAR(16) NOT NULL DEFAULT 'up'
) ENGINE=InnoDB;

INSERT INTO version (table_name, table_version) values ('sipdlg_nodes','1');

-- Each node's live count of each cluster-wide profile and value ('' for a
-- profile without value), replaced when it changes (at most every 100 ms).
CREATE TABLE `sipdlg_profile_counts` (
    `node` INT(10) UNSIGNED NOT NULL,
    `profile` VARCHAR(64) NOT NULL,
    `value` VARCHAR(255) NOT NULL DEFAULT '',
    `count` INT(10) UNSIGNED NOT NULL,
    `updated` DATETIME(6) NOT NULL,
    PRIMARY KEY (`node`, `profile`, `value`)
) ENGINE=InnoDB;

INSERT INTO version (table_name, table_version) values ('sipdlg_profile_counts','1');
